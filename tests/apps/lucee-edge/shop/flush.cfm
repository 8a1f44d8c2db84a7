<cfscript>
// A page that flushes its output early, then writes the session.
writeOutput("early ");
cfflush();
session.afterFlush = "lost";
writeOutput("late");
</cfscript>
