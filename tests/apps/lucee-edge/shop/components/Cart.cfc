/** The cart, kept in the session (a struct of sku -> quantity); the component itself is stateless. */
component {
    public void function add(required string sku, numeric qty = 1) {
        var items = session.cart.items;
        items[arguments.sku] = (items[arguments.sku] ?: 0) + arguments.qty; // changed in place
        session.cart.updated = now();
        queryAddRow(session.viewed, { sku = arguments.sku, at = now() });
    }

    public numeric function count() {
        var n = 0;
        for (var sku in session.cart.items) n += session.cart.items[sku];
        return n;
    }

    public numeric function total() {
        var sum = 0;
        for (var row in application.catalog) {
            sum += row.price * (session.cart.items[row.sku] ?: 0);
        }
        return sum;
    }
}
