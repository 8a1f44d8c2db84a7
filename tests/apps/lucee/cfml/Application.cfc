component {
    this.name = "guard-cfml";
    this.sessionType = "cfml";
    include "../guard/events.cfm";
}
