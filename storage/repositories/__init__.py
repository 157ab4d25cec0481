"""The SQL the services share, one module per aggregate.

Repositories take the caller's session and never commit: the service that calls them owns the
transaction. They return rows or None; turning "not found" into a use-case error is the
service's job.
"""
