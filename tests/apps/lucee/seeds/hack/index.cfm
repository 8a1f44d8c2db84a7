<cfoutput>#session.cfid# #session.hitCount#</cfoutput>
