"""Routes per resource; each stays thin: parse, call a command or query in ``workflows``, shape the answer."""
