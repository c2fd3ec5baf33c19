"""`retail`, the platform's command line for developers and operators (tokens, topics, demo
traffic, generated files). It sits above every service: no service imports it."""
