<cfoutput>ready</cfoutput>
