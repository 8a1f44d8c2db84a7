/**
 * A shop in the usual CFML shape, written against ColdFusion's own `session` scope: a cart
 * kept by a CFC, a login (sessionRotate()) and a logout (sessionInvalidate()) in another CFC,
 * custom tags that read and write the session, flash messages across redirects, dates and a
 * query in the session. On the edge's session through the drop-in: this file's first and last
 * lines are the only change (docs/cfml.md).
 */
component extends="EdgeApplication" {
    this.name = "shop";
    this.sessionTimeout = createTimeSpan(0, 0, 30, 0);

    function appDir() {
        return server.system.environment.APP_DIR & "/shop";
    }

    function onApplicationStart() {
        if (!directoryExists(appDir())) directoryCreate(appDir(), true, true);
        application.catalog = queryNew("sku,name,price", "varchar,varchar,decimal", [
            ["A1", "Kettle", 24.5], ["B2", "Teapot", 31], ["C3", "Cup", 7.25]
        ]);
        return true;
    }

    function onSessionStart() {
        session.cart = { items = {}, updated = now() };
        session.viewed = queryNew("sku,at", "varchar,timestamp");
        session.flash = "";
        session.visits = 0;
    }

    function onRequestStart(required string targetPage) {
        session.visits++;
        request.cart = new components.Cart();
        return true;
    }

    function onSessionEnd(required struct sessionScope, struct applicationScope) {
        var user = structKeyExists(arguments.sessionScope, "user") ? arguments.sessionScope.user.name : "guest";
        var items = structCount(arguments.sessionScope.cart.items);
        fileAppend(appDir() & "/ended.log", arguments.sessionScope.cfid & " " & user & " " & items
            & " " & arguments.applicationScope.catalog.recordCount & chr(10));
    }

    edgeSession();
}
