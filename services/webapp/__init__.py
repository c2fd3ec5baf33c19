"""The staff web app: the pages store staff, call-centre agents, store managers, coordinators and
senior management use, rendered on the server from the platform's APIs, called as the signed-in person."""
