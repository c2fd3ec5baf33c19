"""The notifications service: delivers pages and tier raises to the person on duty and takes their acknowledgement."""
