namespace Stratus.Compute.Api;

/// <summary>Nova's error body: <c>{"itemNotFound": {"code": 404, "message": "..."}}</c>, keyed by the kind of fault.</summary>
static class ComputeErrors
{
    public static byte[] Write(OpenStackError e) => ErrorBodies.Fault(e);
}
