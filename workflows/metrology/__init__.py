"""The provincial metrology database (issue 18): the measuring instruments in use, their
verifications as the verification bodies report them, and what an owner and the public may read.

Not a procedure: no BPMN model runs here. It shares the core's accounts, audit trail (streams
``instrument:<id>`` and ``metrology_body:<id>``) and clock, and is never imported by the core.
"""
