//! Exams: components, eligibility, retakes and results (EXM-1 to EXM-5).
