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

        // (string message) or (string message, optional others...), e.g. SiloUnavailableException(message, inner = null).
        var constructor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .Select(c => (Ctor: c, Parameters: c.GetParameters()))
            .Where(c => c.Parameters.Length > 0 && c.Parameters[0].ParameterType == typeof(string) && c.Parameters[0].Name == "message" && c.Parameters.Skip(1).All(p => p.IsOptional))
            .OrderBy(c => c.Parameters.Length)
            .FirstOrDefault();
        if (constructor.Ctor is null)
        {
            return null;
        }

        var rest = constructor.Parameters.Skip(1).Select(p => p.DefaultValue).ToArray();
        return m => (Exception)constructor.Ctor.Invoke([m, .. rest]);
    }
}
