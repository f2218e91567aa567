"""Text with positions from chart-note PDFs, and the clinical NLP that finds what the policy asks about."""
