"""Foundation layer: units and validation helpers, the integrator registry,
the noise processes (public as :mod:`brainmass.noise`) and the ``*Step`` model
base class. Nothing here imports the layers above: a module of ``_core``
imports only its siblings and third-party packages."""
