using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

/// <summary>Large arguments and results, for frame-size tests.</summary>
public interface IBlobGrain : IGrainWithStringKey
{
    Task<int> Length(string text);

    Task<string> Make(int length);
}

public sealed class BlobGrain : Grain, IBlobGrain
{
    public Task<int> Length(string text) => Task.FromResult(text.Length);

    public Task<string> Make(int length) => Task.FromResult(new string('x', length));
}
