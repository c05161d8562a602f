"""Simulated carrier gateways for the demo, tests and benchmarks (DESIGN.md section 2).

``cmpp.CmppSimulator`` (China Mobile ISMG, CMPP 2.0/3.0), ``sgip.SgipSimulator``
(China Unicom SMG, SGIP 1.2, with its callback connection to the SP's listener)
and ``smgp.SmgpSimulator`` (China Telecom SMGW, SMGP 3.0) are Twisted factories
over the server-role sans-IO sessions of ``smsgw.session``, configured by a
``behaviour.Behaviour``; ``runner.main`` runs one alone (``smsgw sim ...``).
"""
