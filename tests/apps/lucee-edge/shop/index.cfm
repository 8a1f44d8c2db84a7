<cf_userbar> <cf_flash><cfoutput> cart=#request.cart.count()# total=#request.cart.total()# visits=#session.visits#</cfoutput>
