//! Reading results files, including ones cut short by a crash.
