"""The memorize pipeline: a document's chosen sections -> token stream -> the engine's Memorizer
-> a memory's files and library row.

    job.py        run_memorize: the job (request, events, checkpoints, resume)
    setup.py      settings resolved for a backbone ("auto" made concrete), the engine specs
    specs.py      a memory's specs read from / written to its own files
    paths.py      every file a memory has, and where it lies
    cost.py       what a request would cost, without starting it
    estimate.py   durations from earlier runs' throughput
    recovery.py   damaged or interrupted memories: what to say, what to keep
    sections.py   the section numbers people choose, the sections a memory holds

Kept light: importing the package imports none of its modules (and no torch).
"""
