import "./issuance";
