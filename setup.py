"""The optional native engine (banjail.filter._native, C with PCRE2) and fail2ban-regex --json writer
and chunk check (banjail.cli._jsonline, _logtext: C): built when a compiler, the Python headers and libpcre2-dev are there; without them the
install still succeeds and the Python engine and writer run."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "banjail.filter._native",
            sources=[
                "src/banjail/filter/_native.c",
                "src/banjail/filter/_native_scan.c",
                "src/banjail/filter/_native_dates.c",
                "src/banjail/filter/_native_runs.c",
                "src/banjail/filter/_native_prefetch.c",
                "src/banjail/filter/_native_step.c",
                "src/banjail/filter/_native_match.c",
                "src/banjail/filter/_native_session.c",
                "src/banjail/filter/_native_identity.c",
                "src/banjail/filter/_native_failure.c",
                "src/banjail/filter/_native_rows.c",
                "src/banjail/filter/_native_merge.c",
                "src/banjail/filter/_native_pipe.c",
                "src/banjail/filter/_native_batch.c",
                "src/banjail/filter/_native_crew.c",
            ],
            depends=[
                "src/banjail/filter/_native.h",
                "src/banjail/filter/_native_dates.h",
                "src/banjail/filter/_native_program.h",
                "src/banjail/filter/_native_step.h",
                "src/banjail/filter/_native_pipe.h",
            ],
            libraries=["pcre2-8"],
            extra_compile_args=["-O2", "-Wall", "-Wextra"],
            optional=True,
        ),
        # issue 13: fail2ban-regex --json's failure lines (banjail.cli.failures.json_line is the reference)
        Extension(
            "banjail.cli._jsonline",
            sources=["src/banjail/cli/_jsonline.c", "src/banjail/cli/_jsontext.c"],
            depends=["src/banjail/cli/_jsontext.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra"],
            optional=True,
        ),
        # issue 13: whether a chunk of a log needs cutting (banjail.cli.logfile.segments is the reference)
        Extension(
            "banjail.cli._logtext",
            sources=["src/banjail/cli/_logtext.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra"],
            optional=True,
        ),
    ]
)
