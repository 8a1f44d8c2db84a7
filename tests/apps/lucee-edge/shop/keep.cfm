<cfscript>
// Values a session cannot keep at the edge: ?what=component|function|java|big
session.note = "written before";
switch (url.what) {
    case "component": session.helper = new components.Cart(); break;
    case "function": session.helper = function() { return 1; }; break;
    case "java": session.helper = createObject("java", "java.lang.StringBuilder").init("x"); break;
    case "big": session.notes = repeatString("x", val(url.n)); break;
}
writeOutput("stored");
</cfscript>
