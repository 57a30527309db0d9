"""Reading input safely: bounded YAML and JSON, the limits, bundled resources, data tables and the compile cache."""
