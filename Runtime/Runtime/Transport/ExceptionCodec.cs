using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;

namespace Conduit.Runtime.Transport;

/// <summary>
/// Carries exceptions across processes: type name, message and stack out; on the way in, the same
/// exception type when this process has it and it can be made from a message (with the remote stack
/// attached to its StackTrace), otherwise a <see cref="GrainCallException"/> with the original type name.
/// </summary>
internal static class ExceptionCodec
{
    private static readonly ConcurrentDictionary<string, Func<string, Exception>?> Factories = new(StringComparer.Ordinal);

    /// <summary>Re-creates the exception described by a fault message.</summary>
    public static Exception ToException(string? typeName, string? message, string? remoteStack)
    {
        typeName ??= typeof(Exception).FullName!;
        message ??= string.Empty;
        if (typeName == typeof(GrainCallException).FullName)
        {
            return new GrainCallException(typeName, message, remoteStack);
        }

        var factory = Factories.GetOrAdd(typeName, FindFactory);
        if (factory is null)
        {
            return new GrainCallException(typeName, message, remoteStack);
        }

        var exception = factory(message);
        return remoteStack is null ? exception : ExceptionDispatchInfo.SetRemoteStackTrace(exception, remoteStack + Environment.NewLine);
    }

    private static Func<string, Exception>? FindFactory(string typeName)
    {
        if (typeName == typeof(InconsistentStateException).FullName)
        {
            return m => new InconsistentStateException(m, null, null);
        }

        var type = Type.GetType(typeName, throwOnError: false)
            ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName, throwOnError: false)).FirstOrDefault(t => t is not null);
        if (type is null || !typeof(Exception).IsAssignableFrom(type) || type.IsAbstract)
        {
            return null;
        }

        var constructor = type.GetConstructor(BindingFlags.Public | BindingFlags.Instance, [typeof(string)]);
        return constructor is null ? null : m => (Exception)constructor.Invoke([m]);
    }
}
