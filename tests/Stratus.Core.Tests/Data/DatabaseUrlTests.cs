using Stratus.Core.Data;

namespace Stratus.Core.Tests.Data;

public class DatabaseUrlTests
{
    [Fact]
    public void Sqlite_urls_follow_sqlalchemy_slashes()
    {
        var abs = DatabaseUrl.Parse("sqlite:////var/lib/keystone/keystone.db");
        Assert.Equal(DatabaseKind.Sqlite, abs.Kind);
        Assert.Equal("/var/lib/keystone/keystone.db", abs.SqlitePath);
        var rel = DatabaseUrl.Parse("sqlite:///keystone.db");
        Assert.Equal("keystone.db", rel.SqlitePath);
    }

    [Fact]
    public void Postgresql_url_maps_to_npgsql()
    {
        var u = DatabaseUrl.Parse("postgresql://keystone:p%40ss@10.0.0.5:5433/keystone");
        Assert.Equal(DatabaseKind.PostgreSql, u.Kind);
        Assert.Contains("Host=10.0.0.5", u.ConnectionString);
        Assert.Contains("Port=5433", u.ConnectionString);
        Assert.Contains("Database=keystone", u.ConnectionString);
        Assert.Contains("Password=p@ss", u.ConnectionString);
    }

    [Fact]
    public void Mysql_pymysql_url_maps_to_mysql()
    {
        var u = DatabaseUrl.Parse("mysql+pymysql://glance:Welcome123@172.16.3.72/glance");
        Assert.Equal(DatabaseKind.MySql, u.Kind);
        Assert.Contains("Server=172.16.3.72", u.ConnectionString);
        Assert.Contains("Port=3306", u.ConnectionString);
        Assert.Contains("Database=glance", u.ConnectionString);
    }

    [Theory]
    [InlineData("oracle://x@y/z")]
    [InlineData("sqlite://")]
    public void Unsupported_urls_are_rejected(string url) => Assert.Throws<FormatException>(() => DatabaseUrl.Parse(url));

    [Fact]
    public void An_aliased_delete_is_written_in_the_form_MariaDB_accepts()
    {
        Assert.Equal("DELETE `i` FROM `instance_group_member` AS `i`\nWHERE `i`.`InstanceUuid` = @id",
            MariaDbDeleteInterceptor.Rewrite("DELETE FROM `instance_group_member` AS `i`\nWHERE `i`.`InstanceUuid` = @id"));
        const string other = "DELETE FROM `t` WHERE `Id` = 1; UPDATE `t` AS `a` SET `a`.`x` = 1";
        Assert.Equal(other, MariaDbDeleteInterceptor.Rewrite(other));
    }
}
