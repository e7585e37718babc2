using System.Globalization;

namespace Stratus.Testing;

/// <summary>A service's <c>/metrics</c> and <c>/healthcheck</c>, read as Prometheus and a load balancer do (no token).</summary>
public static class PrometheusText
{
    /// <summary>Each series of <c>/metrics</c> (<c>name{label="value"}</c>, as written) and its value.</summary>
    public static async Task<IReadOnlyDictionary<string, double>> ScrapeAsync(string serviceUrl)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(serviceUrl.TrimEnd('/') + "/metrics");
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"/metrics answered {(int)response.StatusCode}: {text}");
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var space = line.LastIndexOf(' ');
            series[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return series;
    }

    /// <summary>The value of a series, 0 when the service has not written it.</summary>
    public static double Value(this IReadOnlyDictionary<string, double> metrics, string series) => metrics.GetValueOrDefault(series);

    public static async Task<(int Status, string Body)> HealthcheckAsync(string serviceUrl)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(serviceUrl.TrimEnd('/') + "/healthcheck");
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
