<cfscript>
request.cart.add(url.sku, val(url.qty ?: 1));
session.flash = "Added " & url.sku;
location("index.cfm", false);
</cfscript>
