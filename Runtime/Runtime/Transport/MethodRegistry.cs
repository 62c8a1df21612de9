using System.Collections.Concurrent;
using System.Reflection;
using System.Text;

namespace Conduit.Runtime.Transport;

/// <summary>
/// Names interface methods on the wire ("Namespace.IFoo::Name(Type1,Type2)") and finds them again on
/// the receiving side among the loaded assemblies' grain and observer interfaces.
/// </summary>
internal static class MethodRegistry
{
    private static readonly ConcurrentDictionary<MethodInfo, string> Keys = new();
    private static readonly ConcurrentDictionary<string, MethodInfo?> Methods = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<MethodInfo, byte[]> KeyBytes = new();

    /// <summary>The wire name of <paramref name="method"/>.</summary>
    public static string KeyOf(MethodInfo method) => Keys.GetOrAdd(method, static m =>
    {
        var key = $"{m.DeclaringType!.FullName}::{m.Name}({string.Join(",", m.GetParameters().Select(p => p.ParameterType.FullName ?? p.ParameterType.Name))})";
        Methods.TryAdd(key, m);
        return key;
    });

    /// <summary>The wire name of <paramref name="method"/> in UTF-8, as frames carry it.</summary>
    public static byte[] KeyBytesOf(MethodInfo method) => KeyBytes.GetOrAdd(method, static m => Encoding.UTF8.GetBytes(KeyOf(m)));

    /// <summary>The method whose wire name is <paramref name="utf8Key"/>, or null if no loaded interface has it.</summary>
    public static MethodInfo? Find(ReadOnlySpan<byte> utf8Key)
    {
        // Known keys are found without allocating a string: decoded onto the stack and looked up as characters.
        if (utf8Key.Length <= 512)
        {
            Span<char> chars = stackalloc char[utf8Key.Length];
            var count = Encoding.UTF8.GetChars(utf8Key, chars);
            if (Methods.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..count], out var known))
            {
                return known;
            }
        }

        return Find(Encoding.UTF8.GetString(utf8Key));
    }

    /// <summary>The method named <paramref name="key"/>, or null if no loaded interface has it.</summary>
    public static MethodInfo? Find(string key) => Methods.GetOrAdd(key, static k =>
    {
        var separator = k.IndexOf("::", StringComparison.Ordinal);
        if (separator <= 0)
        {
            return null;
        }

        var typeName = k[..separator];
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            var type = assembly.GetType(typeName, throwOnError: false);
            if (type is { IsInterface: true } && typeof(IAddressable).IsAssignableFrom(type))
            {
                foreach (var method in type.GetMethods())
                {
                    if (KeyOf(method) == k)
                    {
                        return method;
                    }
                }
            }
        }

        return null;
    });

    /// <summary>The type a call's result is serialized as: T for Task&lt;T&gt;, null for Task and void.</summary>
    public static Type? ResultTypeOf(MethodInfo method)
    {
        var returnType = method.ReturnType;
        return returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>) ? returnType.GetGenericArguments()[0] : null;
    }
}
