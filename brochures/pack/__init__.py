"""The pack before a consultation: booked appointments in, one email per patient out (written, then sent by SMTP)."""
