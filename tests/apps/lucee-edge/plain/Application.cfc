/** The cost measurement's baseline: the counter's page in an application without sessions. */
component {
    this.name = "plain";
    this.sessionManagement = false;
}
