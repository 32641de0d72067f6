"""Each procedure's own code, one package a procedure (DESIGN rule 12).

A package's ``PLUGIN`` (``workflows.plugins.ProcedurePlugin``) is what it adds to the core; the
procedure's catalogue entry names the package (``plugin = "workflows.procedures.<name>"``). A
procedure imports the core, never another procedure; the core never imports a procedure.
"""
