"""The app's pages, a router per kind of person (and the sign-in)."""
