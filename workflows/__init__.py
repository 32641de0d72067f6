"""The engine room of tdcflow: catalogue, SpiffWorkflow runner, tables, clock, commands.

Nothing in this package knows of HTTP requests, cookies or page templates.
"""
