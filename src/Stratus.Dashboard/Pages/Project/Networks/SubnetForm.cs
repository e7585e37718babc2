namespace Stratus.Dashboard.Pages.Project.Networks;

/// <summary>The subnet fields of Horizon's forms: a network's first subnet, or another one on its detail page.</summary>
public sealed class SubnetForm
{
    public string? Name { get; set; }
    public string? Cidr { get; set; }
    public string? GatewayIp { get; set; }
    public bool NoGateway { get; set; }
    public bool EnableDhcp { get; set; } = true;

    public void Check(List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(Cidr)) errors.Add("Network Address (CIDR) is required for a subnet.");
        if (NoGateway && !string.IsNullOrWhiteSpace(GatewayIp)) errors.Add("Give a Gateway IP or disable the gateway, not both.");
    }

    /// <summary>The subnet's create body; the IP version follows the address, Neutron checks the rest.</summary>
    public JsonObject ToSubnet(string networkId)
    {
        var cidr = Cidr!.Trim();
        var subnet = new JsonObject
        {
            ["network_id"] = networkId,
            ["name"] = Name?.Trim() ?? "",
            ["cidr"] = cidr,
            ["ip_version"] = cidr.Contains(':') ? 6 : 4,
            ["enable_dhcp"] = EnableDhcp,
        };
        if (NoGateway) subnet["gateway_ip"] = null;
        else if (!string.IsNullOrWhiteSpace(GatewayIp)) subnet["gateway_ip"] = GatewayIp.Trim();
        return subnet;
    }
}
