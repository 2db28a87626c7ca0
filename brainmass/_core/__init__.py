"""Foundation layer: units and validation helpers, the integrator registry and
the ``*Step`` model base class. Nothing here imports the layers above."""
