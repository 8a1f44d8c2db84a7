/** Logging in and out, the way ColdFusion applications guard against session fixation. */
component {
    public void function login(required string name) {
        sessionRotate();
        session.user = { name = arguments.name, roles = ["buyer"], since = now() };
        session.flash = "Welcome, " & arguments.name;
    }

    public void function logout() {
        sessionInvalidate();
    }
}
