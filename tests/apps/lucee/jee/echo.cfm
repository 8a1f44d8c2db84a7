<cfinclude template="../guard/echo.cfm">
