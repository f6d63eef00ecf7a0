"""`python -m bench` (what `make bench` runs): see bench.run.

Nothing is imported at module level: the Slack sandbox's process is started with the "spawn"
method, which imports this module again in the child, and the child needs none of it.
"""

if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main())
