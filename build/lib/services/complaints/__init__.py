"""The complaints service: intake and system of record for complaints, returns and CSAT."""
