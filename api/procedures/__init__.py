"""Each procedure's pages and JSON routes (its plug-in's ``web_module``): the part of a procedure
that needs the web framework, which the engine room (``workflows.procedures``) may not import."""
