# PROJECT_IS_TOP_LEVEL exists since CMake 3.21; keep the name explicit for readers.
set(attendance_IS_TOP_LEVEL "${PROJECT_IS_TOP_LEVEL}")
