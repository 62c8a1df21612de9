using System.Linq.Expressions;
using System.Reflection;
using Conduit.Runtime.Calls;

namespace Conduit.Runtime.Metadata;

/// <summary>
/// One method of a grain or observer interface: its call flags, its compiled invoker and the factory
/// of the typed completion that the caller awaits.
/// </summary>
internal sealed class GrainMethod
{
    private readonly Func<object, object?[], object?> _invoke;
    private readonly Func<Task, object?>? _getResult;
    private readonly Func<IPendingCall> _createPendingCall;

    public GrainMethod(GrainInterface owner, MethodInfo method)
    {
        Owner = owner;
        Method = method;
        Name = method.Name;
        Parameters = method.GetParameters();
        Key = $"{method.Name}({string.Join(",", Parameters.Select(p => p.ParameterType.FullName))})";
        IsVoid = method.ReturnType == typeof(void);
        IsOneWay = IsVoid || method.IsDefined(typeof(OneWayAttribute));
        IsReadOnly = method.IsDefined(typeof(ReadOnlyAttribute));
        IsAlwaysInterleave = method.IsDefined(typeof(AlwaysInterleaveAttribute));

        var returnType = method.ReturnType;
        if (returnType == typeof(Task) || IsVoid)
        {
            ResultType = typeof(void);
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            ResultType = returnType.GetGenericArguments()[0];
            _getResult = BuildResultGetter(returnType);
        }
        else
        {
            throw new NotSupportedException(
                $"{method.DeclaringType?.FullName}.{method.Name} returns {returnType.Name}: grain and observer methods must return Task or Task<T> (observers may also return void).");
        }

        if (IsOneWay && ResultType != typeof(void))
        {
            throw new NotSupportedException($"{method.DeclaringType?.FullName}.{method.Name} is one-way but returns a value.");
        }

        _invoke = BuildInvoker(method);
        var completionType = typeof(PendingCall<>).MakeGenericType(ResultType == typeof(void) ? typeof(object) : ResultType);
        _createPendingCall = Expression.Lambda<Func<IPendingCall>>(Expression.New(completionType)).Compile();
    }

    /// <summary>The interface that declares this method (or inherits it).</summary>
    public GrainInterface Owner { get; }

    /// <summary>The interface method.</summary>
    public MethodInfo Method { get; }

    /// <summary>The method's name.</summary>
    public string Name { get; }

    /// <summary>A stable key: name and parameter type names; equal on every process that has the interface.</summary>
    public string Key { get; }

    /// <summary>The parameters, whose declared types drive serialization.</summary>
    public ParameterInfo[] Parameters { get; }

    /// <summary>The awaited result type, or <see cref="void"/>.</summary>
    public Type ResultType { get; }

    /// <summary>Whether the method returns void (observer notifications).</summary>
    public bool IsVoid { get; }

    /// <summary>Whether the caller does not wait for completion.</summary>
    public bool IsOneWay { get; }

    /// <summary>Whether the method is marked [ReadOnly].</summary>
    public bool IsReadOnly { get; }

    /// <summary>Whether the method is marked [AlwaysInterleave].</summary>
    public bool IsAlwaysInterleave { get; }

    /// <summary>Creates the typed completion the caller awaits.</summary>
    public IPendingCall CreatePendingCall() => _createPendingCall();

    /// <summary>Calls the method on <paramref name="target"/>; returns the awaited result (null for void).</summary>
    public async Task<object?> InvokeAsync(object target, object?[] arguments)
    {
        var returned = Invoke(target, arguments);
        if (returned is Task task)
        {
            await task.ConfigureAwait(true);
            return ResultOf(task);
        }

        return null;
    }

    /// <summary>
    /// Calls the method on <paramref name="target"/> and returns what it returned (its Task, or null for void), so that
    /// a caller already inside an async method awaits it there rather than through another state machine.
    /// </summary>
    public object? Invoke(object target, object?[] arguments) => _invoke(target, arguments);

    /// <summary>The result of a completed task that <see cref="Invoke"/> returned (null for Task and void).</summary>
    public object? ResultOf(Task completed) => _getResult?.Invoke(completed);

    private static Func<object, object?[], object?> BuildInvoker(MethodInfo method)
    {
        var target = Expression.Parameter(typeof(object), "target");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var parameters = method.GetParameters();
        var callArgs = new Expression[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            callArgs[i] = Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), parameters[i].ParameterType);
        }

        var call = Expression.Call(Expression.Convert(target, method.DeclaringType!), method, callArgs);
        Expression body = method.ReturnType == typeof(void)
            ? Expression.Block(call, Expression.Constant(null, typeof(object)))
            : Expression.Convert(call, typeof(object));
        return Expression.Lambda<Func<object, object?[], object?>>(body, target, args).Compile();
    }

    private static Func<Task, object?> BuildResultGetter(Type taskType)
    {
        var task = Expression.Parameter(typeof(Task), "task");
        var result = Expression.Property(Expression.Convert(task, taskType), "Result");
        return Expression.Lambda<Func<Task, object?>>(Expression.Convert(result, typeof(object)), task).Compile();
    }
}
