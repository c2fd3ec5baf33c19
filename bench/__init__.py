"""`make bench` (python -m bench): each subject against a baseline that does the same durable I/O with
no framework around it, measured in the same run, alternated round by round so machine drift cancels.

The harness (`harness`) starts the infrastructure, runs the rounds and writes the table and
bench/results.json; each benchmark lives in its own module (`filing` is B1). The older scripts beside
them (bench/routing.py, …) still run on their own until they move into the harness."""
