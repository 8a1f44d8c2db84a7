<cfscript>
// The session's values, as the page sees them (types included).
out = {
    "user" = session.user.name,
    "roles" = arrayToList(session.user.roles),
    "sinceIsDate" = isDate(session.user.since) && isInstanceOf(session.user.since, "java.util.Date"),
    "sinceYear" = year(session.user.since),
    "sinceAgeS" = dateDiff("s", session.user.since, now()),
    "cartUpdatedIsDate" = isInstanceOf(session.cart.updated, "java.util.Date"),
    "viewedIsQuery" = isQuery(session.viewed),
    "viewed" = valueList(session.viewed.sku),
    "viewedAtIsDate" = session.viewed.recordCount ? isInstanceOf(session.viewed.at[1], "java.util.Date") : false,
    "userbarRenders" = session.userbarRenders ?: 0
};
writeOutput(serializeJSON(out));
</cfscript>
