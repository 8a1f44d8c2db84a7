component {
    this.name = "guard-jee";
    this.sessionType = "jee";
    include "../guard/events.cfm";
}
