"""The optional native engine (banjail.filter._native, C with PCRE2): built when a compiler, the Python headers
and libpcre2-dev are there; without them the install still succeeds and the Python engine runs."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "banjail.filter._native",
            sources=[
                "src/banjail/filter/_native.c",
                "src/banjail/filter/_native_dates.c",
                "src/banjail/filter/_native_step.c",
                "src/banjail/filter/_native_session.c",
            ],
            depends=["src/banjail/filter/_native.h", "src/banjail/filter/_native_step.h"],
            libraries=["pcre2-8"],
            extra_compile_args=["-O2", "-Wall", "-Wextra"],
            optional=True,
        )
    ]
)
