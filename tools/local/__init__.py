"""The pieces of ``make run`` (``python -m tools.run_local``), one module per kind:

* ``worker``: the background loop every worker shares, and the runner's log line;
* ``sqs``: queue consumers (``on_sqs_message``);
* ``streams``: DynamoDB stream consumers (the outbox relay);
* ``schedules``: ``rate(...)`` and ``cron(...)`` schedules (EventBridge's, in UTC);
* ``discovery``: which workers the Chalice app asks for;
* ``server``: the API's HTTP server, answering like API Gateway where chalice local does not.
"""
