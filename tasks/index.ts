import "./deploy";
import "./issuance";
import "./registry";
