"""The command groups of `proposals` (cli.py assembles them): one module per group."""
