"""The console: server-rendered pages for operators, sellers, buyers and carriers, served by the API's
application at `/`. An entry point like `entrepot.api`: each page calls the services the API's routers
call and applies the same authorisation; no business rule lives here."""
