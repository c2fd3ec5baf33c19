"""`make bench` (python -m bench): each subject against a baseline that does the same durable I/O with
no framework around it, measured in the same run, alternated round by round so machine drift cancels.

The harness (`harness`) starts the infrastructure, runs the rounds and writes the table and
bench/results.json; each benchmark lives in its own module (`filing` B1, `routing` B2, `end_to_end` B3,
`analytics` B4, `memory` B5, `idle` B6), its baseline beside it. The scripts of single services
(bench/notifications.py, bench/scheduling.py, bench/webapp.py) run on their own."""
