"""``capscope watch``: new bars -> saved indicator states -> each new event alerted exactly once.

* :mod:`capscope.watch.engine` -- the per-group state (:class:`~capscope.watch.engine.GroupState`) and the events
  of one new bar;
* :mod:`capscope.watch.patterns` -- the chart-pattern status changes of the new days (the detector over the history);
* :mod:`capscope.watch.runner` -- one transaction per cycle (states, alerts, outbox), then delivery to the sinks;
* :mod:`capscope.watch.pickup` -- new bars from a data directory (changed files only) or a download.
"""
