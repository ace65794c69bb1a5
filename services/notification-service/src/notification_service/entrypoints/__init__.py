"""HTTP routes (thin: parse, call the service layer, map errors) and the app's lifespan."""
