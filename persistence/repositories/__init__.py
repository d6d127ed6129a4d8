"""Write-side repositories over one AsyncConnection; they never commit (the unit of work does)."""
